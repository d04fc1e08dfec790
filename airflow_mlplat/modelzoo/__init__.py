"""ModelZoo: deep models (ONNX, TorchScript, SavedModel, Paddle) registered in MLflow with their signature."""
