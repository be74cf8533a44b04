"""zhixiao (智校): an open-source smart-campus platform for Chinese schools and education bureaus."""

__version__ = "0.1.0"
