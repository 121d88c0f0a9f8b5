using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace MemoryOps.Engine.Metrics
{
    /// <summary>
    /// Pushes metrics to a Prometheus Pushgateway, per its API: PUT /metrics/job/&lt;job&gt;{/&lt;label&gt;/&lt;value&gt;}
    /// replaces every metric of that group, so the group always holds the latest run's state. Label values are sent
    /// base64url-encoded (the API's "@base64" form), so a value with a slash, or an empty one, is carried as it is.
    /// </summary>
    internal static class PushGateway
    {
        private static readonly HttpClient Client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        public static Uri GroupUri(Uri gateway, string job, IReadOnlyList<(string Name, string Value)> grouping)
        {
            var path = new StringBuilder(gateway.AbsoluteUri.TrimEnd('/'));
            path.Append("/metrics/job@base64/").Append(Base64Url(job));
            foreach (var (name, value) in grouping)
                path.Append('/').Append(MetricsBook.SanitizeName(name)).Append("@base64/").Append(Base64Url(value));
            return new Uri(path.ToString());
        }

        /// <summary>Replaces the group's metrics with <paramref name="body"/> (Prometheus text format 0.0.4).</summary>
        public static void Put(Uri group, string body, CancellationToken cancel)
        {
            using var content = new StringContent(body, new UTF8Encoding(false), "text/plain");
            content.Headers.ContentType!.Parameters.Add(new System.Net.Http.Headers.NameValueHeaderValue("version", "0.0.4"));
            HttpResponseMessage response;
            try { response = Client.PutAsync(group, content, cancel).GetAwaiter().GetResult(); }
            catch (HttpRequestException e)
            {
                throw new MemoryOpsException(FailureKind.SessionFailed, $"The Pushgateway at {group.GetLeftPart(UriPartial.Authority)} cannot be reached: {e.Message}", group, e);
            }
            catch (TaskCanceledException e) when (!cancel.IsCancellationRequested)
            {
                throw new MemoryOpsException(FailureKind.Timeout, $"The Pushgateway at {group.GetLeftPart(UriPartial.Authority)} did not answer within {Client.Timeout.TotalSeconds:0} s.", group, e);
            }
            using (response)
            {
                if (response.IsSuccessStatusCode) return;
                string text = response.Content.ReadAsStringAsync(cancel).GetAwaiter().GetResult();
                if (text.Length > 500) text = text.Substring(0, 500) + "…";
                throw new MemoryOpsException(FailureKind.SessionFailed,
                    $"The Pushgateway refused the metrics: {(int)response.StatusCode} {response.ReasonPhrase}: {text.Trim()}", group);
            }
        }

        private static string Base64Url(string value)
        {
            if (value.Length == 0) return "=";
            return Convert.ToBase64String(Encoding.UTF8.GetBytes(value)).Replace('+', '-').Replace('/', '_');
        }
    }
}
