"""The Qt layer: it shows state and sends the person's intents; it holds no logic of its own."""
