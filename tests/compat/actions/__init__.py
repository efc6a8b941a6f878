"""Custom actions of the shared example assistants, written in parley.sdk from their READMEs
(one module per assistant, loaded with `InProcessActionRunner.from_module`)."""
