"""The hub's side of the model life cycle: train, compare, register, sign, roll out, roll back."""
