"""The registry: every activation, loss and model, declared once as data."""
from derive.catalogue.activations import ACTIVATIONS, Activation
from derive.catalogue.losses import LOSSES, Loss
from derive.catalogue.models import MODELS, Model
from derive.catalogue.pairs import check, lookup, resolve, valid_pairs

__all__ = ["ACTIVATIONS", "LOSSES", "MODELS", "Activation", "Loss", "Model", "check", "lookup", "resolve",
           "valid_pairs"]
