"""Bundled sandbox: local HTTP emulation of the platform APIs over synthetic data.

Used by the demo, the end-to-end tests and the benchmark (see DESIGN.md, "Sources").
"""

from .server import Faults, SandboxServer
from .youtube_data import YouTubeUniverse

__all__ = ["Faults", "SandboxServer", "YouTubeUniverse"]
