# pybuild on Debian 12 needs a setup.py (or a pyproject.toml); the metadata is in setup.cfg.
from setuptools import setup
setup()
