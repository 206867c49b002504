"""Sentiment model lab: head training, encoder fine-tuning and ONNX export, evaluation, model benchmarks."""
