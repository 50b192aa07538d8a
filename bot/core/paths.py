"""Where the project's files are, independent of the working directory."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
KNOWLEDGE_BASE = DATA / "faq" / "responses.yml"
MODELS = ROOT / "models"
VAR = ROOT / "var"
