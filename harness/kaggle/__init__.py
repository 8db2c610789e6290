"""Kaggle ARC Prize: the offline bundle, the kernel that fine-tunes and predicts inside Kaggle's
time limit, and pushing/submitting through the kaggle client."""
