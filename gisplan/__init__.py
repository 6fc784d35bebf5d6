"""gisplan: planning the renovation of old urban residential communities in China."""

from gisplan._version import __version__

__all__ = ["__version__"]
