"""Bundled sandbox: the emulator's HTTP server and its synthetic world, under the platforms' emulations.

The server (:mod:`etl.sandbox.server`) mounts each platform's emulator
(``etl/platforms/<platform>/emulator.py``) over the synthetic accounts and
posts of :mod:`etl.sandbox.youtube_data` and :mod:`etl.sandbox.social_data`,
plus news feeds and GDELT (:mod:`etl.sandbox.news`). Only the demo, the test
harness and the tests import it (see DESIGN.md, "Sources");
``tests/platforms/test_layout.py`` keeps production code away from it.
"""

#: The sandbox's API key (PANTAU_SANDBOX_API_KEY overrides it for ``python -m etl.sandbox serve``). Its first 8
#: characters appear in no synthetic answer: the client masks any 8-character prefix of a secret it finds in a body (a
#: server may echo a token cut short), and the old "sandbox-key" masked the "sandbox-..." names of every synthetic
#: account in the landed answers, a Python loop per name (issue 11).
API_KEY = "sbxkey-demo"
