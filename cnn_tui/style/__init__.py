"""Style transfer (Gatys): feature nets, losses, the image loop, images."""
