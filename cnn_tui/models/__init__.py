"""Model builders: plain functions from a recipe's `model:` section to an nn.Module."""
