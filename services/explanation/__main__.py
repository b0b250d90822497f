"""`python -m cliplens.explanation`: serve explanations."""

from cliplens.core.server import service_main
from cliplens.explanation.config import ExplanationConfig
from cliplens.explanation.service import start

if __name__ == "__main__":
    service_main(ExplanationConfig, "explanation", start)
