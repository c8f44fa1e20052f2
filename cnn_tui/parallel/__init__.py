"""Data-parallel training on torch.distributed: the launcher (torchrun's own module), the
process's place in the job, and where the other ranks' output goes."""
