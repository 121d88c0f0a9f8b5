namespace MemoryOps
{
    /// <summary>The two text formats Prometheus reads.</summary>
    public enum MetricsFormat
    {
        /// <summary>OpenMetrics 1.0 (application/openmetrics-text): # UNIT lines, counters as family + _total, # EOF, timestamps in seconds.</summary>
        OpenMetrics,
        /// <summary>
        /// Prometheus text format 0.0.4 (text/plain): what node_exporter's textfile collector and the Pushgateway take.
        /// Neither accepts timestamps, so none are written.
        /// </summary>
        Prometheus,
    }
}
