"""The real-time loop: the behaviour log through Flink into event-time partitions, and what retrains on them."""
