"""The parts of `bench/load.py`: its options and runs (cli), the offered load (schedule), the fake CAMS's
process and Redis (services), FC instances as processes in a fixed pool (pool) or started on demand
(scaling), and what each kind of run reports (report, burst, redis_stop)."""
