"""`python -m cliplens.gateway`: serve the public endpoint."""

from cliplens.core.server import service_main
from cliplens.gateway.config import GatewayConfig
from cliplens.gateway.service import start

if __name__ == "__main__":
    service_main(GatewayConfig, "gateway", start)
