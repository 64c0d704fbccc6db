"""Execution: where evaluations run (``serial.SerialExecutor`` in this process, ``ray_executor`` on a Ray
cluster through ``ray.util.ActorPool``).

Importing this package imports none of its modules."""
