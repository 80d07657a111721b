"""Made-up deliveries for the demo, the tests and the benchmarks: not part of the product."""
