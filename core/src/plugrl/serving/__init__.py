"""External agents: a policy server that learns from the episodes its clients play, and the
client they call, over a documented JSON protocol (``docs/serving.md``).

:class:`PolicyServerInput` is a rollout worker's input (``config["input"]``); a simulator
runs a :class:`PolicyClient`. Importing this package imports no HTTP library: the server
needs aiohttp (``pip install 'plugrl[serve]'``), the client only the standard library.
"""

from plugrl.serving.client import PolicyClient
from plugrl.serving.server import PolicyServerInput

__all__ = ["PolicyClient", "PolicyServerInput"]
