"""`cnn-tui export`: a run's scalars to CSV or TensorBoard, its kept checkpoint to ONNX or TorchScript."""
