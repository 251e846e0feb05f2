"""What tests share: hand-made STAC scenes and catalogs, small simulated worlds, in-memory cubes, the CLI
runner, a fault-injecting HTTP server, the API test server.

Imported as ``tests.support.<module>`` (pytest puts the repository root on ``sys.path``: ``pythonpath``
in pyproject.toml); nothing here is part of the installed package.
"""
