"""Bundled sandbox: the emulator's HTTP server and its synthetic world, under the platforms' emulations.

The server (:mod:`etl.sandbox.server`) mounts each platform's emulator
(``etl/platforms/<platform>/emulator.py``) over the synthetic accounts and
posts of :mod:`etl.sandbox.youtube_data` and :mod:`etl.sandbox.social_data`,
plus news feeds and GDELT (:mod:`etl.sandbox.news`). Only the demo, the test
harness and the tests import it (see DESIGN.md, "Sources");
``tests/platforms/test_layout.py`` keeps production code away from it.
"""
