"""Data: sources (built-in shapes, torchvision, ImageFolder) -> uint8 tensors in memory -> batches."""
