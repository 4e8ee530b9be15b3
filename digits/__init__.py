"""digits: draw a digit, watch a CNN trained on MNIST read it."""
