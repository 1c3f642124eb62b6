"""ftnode_trainer: write an ftnode trainer in Python (docs/trainer-protocol.md, "Python SDK").

    from ftnode_trainer import run, Session
    def train(s: Session) -> None:
        for step in range(1, 101):
            if s.stop_requested: break
            ...; s.progress(step, 100)
        s.checkpoint(step, lambda p: torch.save(state, p), metrics={"loss": loss})
        s.done(step)
    if __name__ == "__main__":
        run(train, trainer="my-trainer")

Standard library only, Python >= 3.10.
"""
from .newton import SftExample, check_example, example_from_predict, read_examples
from .runner import PredictRequest, run
from .session import (EXIT_CRASH, EXIT_INVALID_CONFIG, EXIT_INVALID_DATASET, EXIT_OK, EXIT_ORPHANED, PREDICT_VERSION,
                      PROTOCOL_VERSION, DataFile, Dataset, InvalidConfig, InvalidDataset, ResumePoint, Session, sha256_file)

__all__ = [
    "run", "Session", "PredictRequest", "DataFile", "Dataset", "ResumePoint", "InvalidConfig", "InvalidDataset",
    "SftExample", "check_example", "example_from_predict", "read_examples", "sha256_file",
    "PROTOCOL_VERSION", "PREDICT_VERSION", "EXIT_OK", "EXIT_CRASH", "EXIT_INVALID_DATASET", "EXIT_INVALID_CONFIG", "EXIT_ORPHANED",
]
