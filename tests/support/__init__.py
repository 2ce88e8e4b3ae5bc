"""Real test peers the suite starts on 127.0.0.1: RTSP camera, S3 server, databases."""
