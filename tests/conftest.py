import matplotlib

matplotlib.use("Agg")  # no window in tests
