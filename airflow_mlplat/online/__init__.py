"""Online learning state kept as plain arrays: FTRL-Proximal and running moments."""

#: The file next to a saved online model's Spark metadata that holds its state arrays (``np.savez``).
STATE_FILE = "state.npz"
