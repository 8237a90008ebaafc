"""Our own PyTorch re-implementation of SAM-Med3D, laid out for ONNX export."""
