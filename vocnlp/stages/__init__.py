"""Pipeline stages: ingest → clean → tokenize → segment → embed → topics → classify → sentiment → insights → outputs.

Each stage is a module with a ``run``-style function that takes a frame (and its config section)
and returns a new frame; I/O lives only in ``ingest`` and ``outputs``.
"""
