"""What the engine shows of a classifier's inside: feature maps, filters, the confusion matrix and
its worst mistakes, activation and weight health. Computed in the training process; only small
PNG files and plain numbers leave it (events), never tensors."""
