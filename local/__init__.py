"""Local harness, never deployed: a fake CAMS and an FC3 emulator, with no cloud and no Docker."""
