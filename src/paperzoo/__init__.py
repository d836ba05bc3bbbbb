"""paperzoo: recent deep-learning papers as tested components with honest, offline reproductions."""

__version__ = "0.1.0"
