"""Pretrained convolutional bases for transfer learning (feature extraction, fine-tuning)."""
