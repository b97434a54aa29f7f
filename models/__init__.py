"""ML: features -> training -> evaluation -> ONNX export -> signed model bundles."""
