// MemoryOps report: Chart.js configuration for the data embedded in this page (script#memoryops-data).
// No drawing code: every chart is a Chart.js config. When done, a summary of what Chart.js drew (its own chart
// objects: datasets and their drawn elements) goes into pre#memoryops-drawn, for tests and tools to read.
(function () {
  'use strict';
  var charts = [];
  var started = Date.now();
  try {
    var data = JSON.parse(document.getElementById('memoryops-data').textContent);
    var palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#637939', '#843c39'];
    var alarm = '#d62728';
    var byteUnits = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

    var bytes = function (v) {
      var a = Math.abs(v), u = 0;
      while (a >= 1024 && u < byteUnits.length - 1) { a /= 1024; u++; }
      return (v < 0 ? '-' : '') + (u === 0 ? a.toFixed(0) : a.toFixed(1)) + ' ' + byteUnits[u];
    };
    var seconds = function (v) {
      var a = Math.abs(v);
      if (a === 0) return '0 s';
      if (a < 0.001) return (v * 1e6).toFixed(1) + ' µs';
      if (a < 1) return (v * 1e3).toFixed(a < 0.01 ? 2 : 1) + ' ms';
      return v.toFixed(2) + ' s';
    };
    var number = function (v) { return Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en') : String(Math.round(v * 1000) / 1000); };
    var fmt = function (v, unit) {
      switch (unit) {
        case 'bytes': return bytes(v);
        case 'bytes/s': return bytes(v) + '/s';
        case 'seconds': return seconds(v);
        case 'seconds/s': return (v * 100).toFixed(2) + ' %';
        case 'fraction': return (v * 100).toFixed(2) + ' %';
        case 'percent': return number(v) + ' %';
        case 'count': return number(v);
        case 'count/s': return number(v) + '/s';
        default: return number(v) + (unit ? ' ' + unit : '');
      }
    };
    var clock = function (ms) { return new Date(ms).toISOString().slice(11, 19); };
    var clockTenths = function (ms) { return new Date(ms).toISOString().slice(11, 21); };
    var instant = function (ms) { return new Date(ms).toISOString().replace('T', ' ').slice(0, 23) + ' UTC'; };
    var shorten = function (label) { return label.length > 48 ? '…' + label.slice(label.length - 47) : label; };

    Chart.defaults.animation = false;
    Chart.defaults.responsive = true;
    Chart.defaults.maintainAspectRatio = false;
    Chart.defaults.font.size = 11;

    var timeConfig = function (spec) {
      var n = 0;
      var datasets = spec.series.map(function (s) {
        var points = new Array(s.t.length);
        for (var j = 0; j < s.t.length; j++) points[j] = { x: data.t0 + s.t[j], y: s.v[j] };
        var color = s.role === 'data' ? palette[n++ % palette.length] : alarm;
        return {
          label: s.label, data: points, borderColor: color, backgroundColor: color, borderWidth: 1.5,
          borderDash: s.role === 'limit' ? [6, 4] : undefined,
          showLine: s.role !== 'breach' && !spec.points,
          pointStyle: s.role === 'breach' ? 'crossRot' : 'circle',
          pointRadius: s.role === 'breach' ? 5 : s.role === 'limit' ? 0 : spec.points ? 2.5 : s.t.length > 120 ? 0 : 2,
          order: s.role === 'data' ? 2 : 1
        };
      });
      return {
        type: 'line',
        data: { datasets: datasets },
        options: {
          parsing: false, normalized: true, spanGaps: true,
          interaction: { mode: 'nearest', intersect: false, axis: 'x' },
          scales: {
            x: { type: 'linear', ticks: { maxRotation: 0, autoSkipPadding: 12, callback: function (v) { return this.max - this.min < 20000 ? clockTenths(v) : clock(v); } } },
            y: { beginAtZero: !!spec.zero, ticks: { callback: function (v) { return fmt(v, spec.unit); } } }
          },
          plugins: {
            decimation: { enabled: true, algorithm: 'lttb', samples: 500 },
            legend: { labels: { boxWidth: 12, sort: function (a, b) { return a.datasetIndex - b.datasetIndex; } } },
            tooltip: { callbacks: {
              title: function (items) { return items.length ? instant(items[0].parsed.x) : ''; },
              label: function (item) { return item.dataset.label + ': ' + fmt(item.parsed.y, spec.unit); }
            } }
          }
        }
      };
    };

    var barConfig = function (spec) {
      var valueAxis = { ticks: { callback: function (v) { return fmt(v, spec.unit); } } };
      var labelAxis = { ticks: { autoSkip: false, callback: function (v) { return shorten(this.getLabelForValue(v)); } } };
      return {
        type: 'bar',
        data: { labels: spec.labels, datasets: [{
          label: spec.title, data: spec.values,
          backgroundColor: spec.values.map(function (v) { return v < 0 ? palette[2] : spec.alarm ? alarm : palette[0]; })
        }] },
        options: {
          indexAxis: 'y',
          scales: { x: valueAxis, y: labelAxis },
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: function (item) { return fmt(item.raw, spec.unit); } } }
          }
        }
      };
    };

    data.charts.forEach(function (spec) {
      var canvas = document.getElementById(spec.id);
      if (canvas) charts.push(new Chart(canvas, spec.kind === 'time' ? timeConfig(spec) : barConfig(spec)));
    });
    window.addEventListener('beforeprint', function () { charts.forEach(function (c) { c.resize(); }); });
  } catch (e) {
    (window.memoryOpsErrors = window.memoryOpsErrors || []).push(String(e && e.stack || e));
  } finally {
    var ink = function (canvas) {
      // Pixels Chart.js painted (every 4th pixel looked at): a canvas left blank reads 0.
      try {
        var px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data, n = 0;
        for (var i = 3; i < px.length; i += 16) if (px[i] !== 0) n++;
        return n;
      } catch (e) { return -1; }
    };
    var drawn = charts.map(function (c) {
      return {
        id: c.canvas.id, type: c.config.type, width: c.width, height: c.height, ink: ink(c.canvas),
        datasets: c.data.datasets.map(function (d, i) { return { label: d.label, points: c.getDatasetMeta(i).data.length }; })
      };
    });
    document.getElementById('memoryops-drawn').textContent = JSON.stringify({
      charts: drawn, errors: window.memoryOpsErrors || [],
      // From navigation start (the page's time origin) to every chart drawn; and the chart code alone.
      loadedMs: Math.round(performance.now()), chartMs: Date.now() - started
    });
  }
})();
