"""Local mode: the whole product on one machine, with an embedded AWS emulator and no AWS account."""
