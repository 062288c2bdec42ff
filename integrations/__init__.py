"""Built-in integrations, one package each; each exports its `Integration` class."""
