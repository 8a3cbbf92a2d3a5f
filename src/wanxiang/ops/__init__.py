"""Running wanxiang as a service: logs, metrics, readiness, start-up checks and how processes stop."""
