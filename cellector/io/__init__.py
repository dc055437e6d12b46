"""Reading suite2p/suite3d folders and reading/writing the ``cellector/`` store."""
