using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Prometheus;
using StreamAnomaly.Host.Metrics;
using StreamAnomaly.Host.Settings;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace StreamAnomaly.IntegrationTests;

/// <summary>
/// The deployment files (docker/, helm/, k8s/, deploy/grafana/) checked offline: Docker, Helm and
/// a cluster are not available here, so the manifests are validated against the Kubernetes
/// schemas (npm kubernetes-models), linted (yamllint) and cross-checked against the app itself
/// (its settings keys, its metric names, its ports).
/// </summary>
public sealed partial class DeploymentTests
{
    private const string KubernetesModelsVersion = "4.5.1";
    private const int RemotingPort = 4053;
    private const int HttpPort = 9464;

    private static readonly string Root = FindRoot();

    [Fact]
    public async Task K8sManifestsValidateAgainstTheKubernetesSchemas()
    {
        var models = await KubernetesModelsAsync();
        var documents = new JsonArray();
        foreach (var (file, doc) in K8sDocuments())
        {
            documents.Add(new JsonObject { ["file"] = Path.GetFileName(file), ["doc"] = doc.DeepClone() });
        }

        // A broken Deployment (a port as a string, a container without a name): must be rejected,
        // or the validator is not validating.
        var broken = JsonNode.Parse("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"broken"},
             "spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},
             "spec":{"containers":[{"image":"x","ports":[{"containerPort":"9464"}]}]}}}}
            """)!;
        documents.Add(new JsonObject { ["file"] = "(negative)", ["doc"] = broken });
        documents.Add(new JsonObject { ["file"] = "(negative-kind)", ["doc"] = JsonNode.Parse("""{"apiVersion":"v1","kind":"NoSuchKind","metadata":{"name":"x"}}""") });

        var work = Directory.CreateTempSubdirectory("k8s-validate-").FullName;
        try
        {
            var input = Path.Combine(work, "docs.json");
            await File.WriteAllTextAsync(input, documents.ToJsonString());
            var script = Path.Combine(work, "validate.js");
            await File.WriteAllTextAsync(script, """
                const docs = require(process.argv[2]);
                const results = docs.map(({ file, doc }) => {
                  try {
                    const group = require(`kubernetes-models/${doc.apiVersion}`);
                    const Kind = group[doc.kind];
                    if (typeof Kind !== 'function') throw new Error(`unknown kind ${doc.apiVersion}/${doc.kind}`);
                    new Kind(doc).validate();
                    return { file, kind: doc.kind, name: doc.metadata && doc.metadata.name, ok: true };
                  } catch (e) {
                    return { file, kind: doc.kind, name: doc.metadata && doc.metadata.name, ok: false, error: String(e.message || e) };
                  }
                });
                console.log(JSON.stringify(results));
                """);
            var (code, stdout, stderr) = await RunAsync("node", [script, input], work, ("NODE_PATH", Path.Combine(models, "node_modules")));
            Assert.True(code == 0, $"node failed ({code}): {stderr}");
            var results = JsonNode.Parse(stdout)!.AsArray();
            var failures = results.Where(r => !r!["file"]!.GetValue<string>().StartsWith('(') && !r["ok"]!.GetValue<bool>())
                .Select(r => $"{r!["file"]} {r["kind"]}/{r["name"]}: {r["error"]}").ToList();
            Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
            var negatives = results.Where(r => r!["file"]!.GetValue<string>().StartsWith('(')).ToList();
            Assert.Equal(2, negatives.Count);
            Assert.All(negatives, r => Assert.False(r!["ok"]!.GetValue<bool>()));
            Assert.Contains("must be integer", negatives[0]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("name", negatives[0]!["error"]!.GetValue<string>(), StringComparison.Ordinal);

            // Every kind the plain manifests are expected to hold was seen (and validated).
            var kinds = results.Where(r => r!["ok"]!.GetValue<bool>()).Select(r => r!["kind"]!.GetValue<string>()).ToHashSet();
            Assert.Superset(new HashSet<string> { "Namespace", "ConfigMap", "Service", "StatefulSet", "Deployment", "PodDisruptionBudget" }, kinds);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task YamllintPassesOnEveryYamlFileButHelmTemplates()
    {
        // .yamllint at the root ignores helm/*/templates (Go templates are not YAML).
        string[] targets = ["docker", "k8s", "helm", ".yamllint"];
        var (code, stdout, stderr) = await RunAsync("yamllint", ["-s", "-f", "parsable", .. targets], Root);
        Assert.True(code == 0, $"yamllint ({code}):{Environment.NewLine}{stdout}{stderr}");

        var linted = Directory.EnumerateFiles(Path.Combine(Root, "helm"), "*.yaml", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}templates{Path.DirectorySeparatorChar}", StringComparison.Ordinal)).ToList();
        Assert.Contains(linted, f => f.EndsWith("values.yaml", StringComparison.Ordinal));

        // Negative: the same configuration rejects a badly indented file.
        var bad = Path.Combine(Root, "k8s", $".lint-negative-{Environment.ProcessId}.yaml");
        await File.WriteAllTextAsync(bad, "a:\n  b: 1\n   c: 2\n");
        try
        {
            var (badCode, _, _) = await RunAsync("yamllint", ["-s", bad], Root);
            Assert.NotEqual(0, badCode);
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [Fact]
    public void HelmValuesAndK8sManifestsAgreeOnPortsEnvironmentAndProbes()
    {
        var values = LoadYaml(Path.Combine(Root, "helm", "streamanomaly", "values.yaml")).Single()!;
        Assert.Equal(RemotingPort, values["ports"]!["remoting"]!.GetValue<int>());
        Assert.Equal(HttpPort, values["ports"]!["http"]!.GetValue<int>());
        var liveness = values["probes"]!["liveness"]!["path"]!.GetValue<string>();
        var readiness = values["probes"]!["readiness"]!["path"]!.GetValue<string>();
        Assert.Equal("/healthz", liveness);
        Assert.Equal("/readyz", readiness);

        var k8sEnv = new HashSet<string>(StringComparer.Ordinal);
        var roles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (file, doc) in NodeWorkloads())
        {
            var pod = doc["spec"]!["template"]!["spec"]!;
            var container = pod["containers"]!.AsArray().Single()!;
            var args = container["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();
            roles.Add(args[Array.IndexOf(args, "--roles") + 1]);
            var ports = container["ports"]!.AsArray().ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!["containerPort"]!.GetValue<int>());
            Assert.Equal(RemotingPort, ports["remoting"]);
            Assert.Equal(HttpPort, ports["http-metrics"]);
            foreach (var (probe, path) in new[] { ("startupProbe", liveness), ("livenessProbe", liveness), ("readinessProbe", readiness) })
            {
                Assert.Equal(path, container[probe]!["httpGet"]!["path"]!.GetValue<string>());
                Assert.Equal("http-metrics", container[probe]!["httpGet"]!["port"]!.GetValue<string>());
            }

            var env = container["env"]!.AsArray().Where(e => e!["value"] is not null).ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]!.GetValue<string>());
            Assert.Equal(RemotingPort.ToString(CultureInfo.InvariantCulture), env["STREAMANOMALY__NODE__PORT"]);
            Assert.Equal($"0.0.0.0:{HttpPort}", env["STREAMANOMALY__HTTP__LISTEN"]);
            Assert.EndsWith($":{RemotingPort}", env["STREAMANOMALY__NODE__SEEDNODES__0"], StringComparison.Ordinal);
            Assert.True(pod["terminationGracePeriodSeconds"]!.GetValue<int>() >= 30, file);
            Assert.NotNull(container["lifecycle"]!["preStop"]);
            k8sEnv.UnionWith(env.Keys.Where(k => k.StartsWith(PlantSettings.EnvironmentPrefix, StringComparison.Ordinal)));
        }

        Assert.Equal(["aggregator", "ingest", "worker"], roles.Order(StringComparer.Ordinal));

        // The chart's templates set the same variables (array indexes written as {{ $i }}).
        var templates = string.Join('\n', Directory.EnumerateFiles(Path.Combine(Root, "helm", "streamanomaly", "templates")).Select(File.ReadAllText));
        var helmEnv = EnvNameInTemplate().Matches(templates).Select(m => Normalise(m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(helmEnv.Order(StringComparer.Ordinal), k8sEnv.Select(Normalise).ToHashSet().Order(StringComparer.Ordinal));

        // Every variable names a real setting of the app.
        var keys = SettingsKeys();
        Assert.All(k8sEnv.Concat(helmEnv), name => Assert.True(keys.Contains(SettingsKey(name)), $"{name}: no setting {SettingsKey(name)}"));

        // The seed names match the aggregator StatefulSet and its headless service.
        var sts = NodeWorkloads().Single(d => d.Doc["kind"]!.GetValue<string>() == "StatefulSet").Doc;
        var service = sts["spec"]!["serviceName"]!.GetValue<string>();
        var headless = K8sDocuments().Single(d => d.Doc["kind"]!.GetValue<string>() == "Service" && d.Doc["metadata"]!["name"]!.GetValue<string>() == service).Doc;
        Assert.Equal("None", headless["spec"]!["clusterIP"]!.GetValue<string>());
        Assert.True(headless["spec"]!["publishNotReadyAddresses"]!.GetValue<bool>());
        var seed = sts["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray().Single(e => e!["name"]!.GetValue<string>() == "STREAMANOMALY__NODE__SEEDNODES__0")!["value"]!.GetValue<string>();
        Assert.StartsWith($"{sts["metadata"]!["name"]!.GetValue<string>()}-0.{service}.", seed, StringComparison.Ordinal);

        // The plant ConfigMap is a configuration the app accepts.
        var plant = K8sDocuments().Single(d => d.Doc["kind"]!.GetValue<string>() == "ConfigMap" && d.Doc["data"]?["plant.json"] is not null).Doc["data"]!["plant.json"]!.GetValue<string>();
        AssertValidPlant(plant);
    }

    [Fact]
    public void ComposeParsesAndItsServicesPortsAndScrapeTargetsAgree()
    {
        var compose = LoadYaml(Path.Combine(Root, "docker", "compose.yaml")).Single()!;
        var services = compose["services"]!.AsObject();
        Assert.Contains("kafka", services.Select(s => s.Key));
        Assert.Contains("prometheus", services.Select(s => s.Key));
        Assert.Contains("grafana", services.Select(s => s.Key));

        var keys = SettingsKeys();
        var nodes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, service) in services)
        {
            var env = service!["environment"]?.AsObject().ToDictionary(e => e.Key, e => e.Value!.ToString()) ?? [];
            foreach (var variable in env.Keys.Where(k => k.StartsWith(PlantSettings.EnvironmentPrefix, StringComparison.Ordinal)))
            {
                Assert.True(keys.Contains(SettingsKey(variable)), $"{name}: {variable}: no setting {SettingsKey(variable)}");
            }

            var command = service["command"]?.AsArray().Select(c => c!.GetValue<string>()).ToArray() ?? [];
            if (!command.Contains("--roles"))
            {
                continue;
            }

            Assert.Equal("streamanomaly:cpu", service["image"]!.GetValue<string>());
            Assert.Equal(name, service["hostname"]!.GetValue<string>());
            Assert.Equal(name, env["STREAMANOMALY__NODE__HOST"]);
            Assert.Equal(RemotingPort.ToString(CultureInfo.InvariantCulture), env["STREAMANOMALY__NODE__PORT"]);
            Assert.Equal($"aggregator:{RemotingPort}", env["STREAMANOMALY__NODE__SEEDNODES__0"]);
            Assert.Equal("kafka:9092", env["STREAMANOMALY__KAFKA__BOOTSTRAPSERVERS"]);
            nodes[name] = int.Parse(env["STREAMANOMALY__HTTP__LISTEN"].Split(':')[^1], CultureInfo.InvariantCulture);
            var roles = command[Array.IndexOf(command, "--roles") + 1];
            if (roles.Contains("worker", StringComparison.Ordinal))
            {
                Assert.Equal("service_completed_successfully", service["depends_on"]!["trainer"]!["condition"]!.GetValue<string>());
                Assert.Contains(env["STREAMANOMALY__WORKER__BUNDLES__0"], services["trainer"]!["command"]![0]!.GetValue<string>(), StringComparison.Ordinal);
            }
        }

        Assert.Superset(new HashSet<string> { "aggregator", "ingest", "worker-1" }, nodes.Keys.ToHashSet());
        Assert.All(nodes.Values, port => Assert.Equal(HttpPort, port));

        // Prometheus scrapes exactly the StreamAnomaly nodes, each on its Http:Listen port.
        var prometheus = LoadYaml(Path.Combine(Root, "docker", "prometheus.yml")).Single()!;
        var targets = prometheus["scrape_configs"]!.AsArray()
            .SelectMany(j => j!["static_configs"]!.AsArray().SelectMany(s => s!["targets"]!.AsArray().Select(t => t!.GetValue<string>())))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Equal(nodes.Select(n => $"{n.Key}:{n.Value}").Order(StringComparer.Ordinal), targets.Order(StringComparer.Ordinal));
        Assert.All(prometheus["scrape_configs"]!.AsArray(), j => Assert.Equal("/metrics", j!["metrics_path"]!.GetValue<string>()));

        // Grafana gets the one dashboard file and a Prometheus data source at the compose service.
        var grafanaVolumes = services["grafana"]!["volumes"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
        Assert.Contains(grafanaVolumes, v => v.StartsWith("../deploy/grafana/streamanomaly-dashboard.json:", StringComparison.Ordinal));
        var datasource = LoadYaml(Path.Combine(Root, "docker", "grafana", "provisioning", "datasources", "prometheus.yaml")).Single()!;
        Assert.Equal("http://prometheus:9090", datasource["datasources"]![0]!["url"]!.GetValue<string>());

        AssertValidPlant(File.ReadAllText(Path.Combine(Root, "docker", "plant.json")));
    }

    [Fact]
    public void K8sAggregatorsKeepTheirJournalInThePostgresqlOfTheManifestsWithItsPasswordFromTheSameSecret()
    {
        var sts = NodeWorkloads().Single(d => d.Doc["kind"]!.GetValue<string>() == "StatefulSet").Doc;
        var pod = sts["spec"]!["template"]!["spec"]!;
        var env = pod["containers"]![0]!["env"]!.AsArray().Where(e => e!["value"] is not null).ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]!.GetValue<string>());
        Assert.Equal("postgresql", env["STREAMANOMALY__JOURNAL__PROVIDER"]);
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(env["STREAMANOMALY__JOURNAL__CONNECTIONSTRING"]);
        Assert.True(string.IsNullOrEmpty(connection.Password), "no password in the connection string");

        var postgres = K8sDocuments().Where(d => d.Doc["metadata"]!["name"]!.GetValue<string>() == connection.Host).ToDictionary(d => d.Doc["kind"]!.GetValue<string>(), d => d.Doc);
        Assert.Equal(connection.Port, postgres["Service"]["spec"]!["ports"]![0]!["port"]!.GetValue<int>());
        var server = postgres["StatefulSet"]["spec"]!["template"]!["spec"]!;
        var serverEnv = server["containers"]![0]!["env"]!.AsArray().ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]!.GetValue<string>());
        Assert.Equal(connection.Username, serverEnv["POSTGRES_USER"]);
        Assert.Equal(connection.Database, serverEnv["POSTGRES_DB"]);

        // Both read the password from a file of one Secret.
        string SecretOf(JsonNode spec, string file)
        {
            var mount = spec["containers"]![0]!["volumeMounts"]!.AsArray().Single(m => file.StartsWith(m!["mountPath"]!.GetValue<string>() + "/", StringComparison.Ordinal))!;
            var volume = spec["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == mount["name"]!.GetValue<string>())!;
            return volume["secret"]!["secretName"]!.GetValue<string>();
        }

        Assert.Equal(SecretOf(server, serverEnv["POSTGRES_PASSWORD_FILE"]), SecretOf(pod, env["STREAMANOMALY__JOURNAL__PASSWORDFILE"]));
    }

    [Fact]
    public void ComposeAggregatorKeepsItsJournalInTheComposePostgresqlWithItsPasswordFromTheSameSecret()
    {
        var services = LoadYaml(Path.Combine(Root, "docker", "compose.yaml")).Single()!["services"]!;
        var env = services["aggregator"]!["environment"]!.AsObject().ToDictionary(e => e.Key, e => e.Value!.ToString());
        Assert.Equal("postgresql", env["STREAMANOMALY__JOURNAL__PROVIDER"]);
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(env["STREAMANOMALY__JOURNAL__CONNECTIONSTRING"]);
        var postgres = services[connection.Host!]!;
        var serverEnv = postgres["environment"]!.AsObject().ToDictionary(e => e.Key, e => e.Value!.ToString());
        Assert.Equal(connection.Username, serverEnv["POSTGRES_USER"]);
        Assert.Equal(connection.Database, serverEnv["POSTGRES_DB"]);
        Assert.Equal(serverEnv["POSTGRES_PASSWORD_FILE"], env["STREAMANOMALY__JOURNAL__PASSWORDFILE"]);
        Assert.StartsWith("/run/secrets/", env["STREAMANOMALY__JOURNAL__PASSWORDFILE"], StringComparison.Ordinal);
        Assert.Equal("service_healthy", services["aggregator"]!["depends_on"]![connection.Host!]!["condition"]!.GetValue<string>());
    }

    [Fact]
    public void EveryNodeGetsItsHttpTokenFromASecretFileNeverALiteral()
    {
        // k8s/: the token file lies in a mounted Secret volume.
        foreach (var (file, doc) in NodeWorkloads())
        {
            var pod = doc["spec"]!["template"]!["spec"]!;
            var container = pod["containers"]!.AsArray().Single()!;
            var env = container["env"]!.AsArray().ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]?.GetValue<string>());
            Assert.False(env.ContainsKey("STREAMANOMALY__HTTP__TOKEN"), $"{file}: the token itself is in the manifest");
            var tokenFile = env["STREAMANOMALY__HTTP__TOKENFILE"]!;
            var mount = container["volumeMounts"]!.AsArray().Single(m => tokenFile.StartsWith(m!["mountPath"]!.GetValue<string>() + "/", StringComparison.Ordinal))!;
            var volume = pod["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == mount["name"]!.GetValue<string>())!;
            Assert.Equal("streamanomaly-http", volume["secret"]!["secretName"]!.GetValue<string>());
            Assert.Equal(Path.GetFileName(tokenFile), volume["secret"]!["items"]![0]!["path"]!.GetValue<string>());
        }

        // The chart: the same, from http.tokenSecret.
        var workloads = File.ReadAllText(Path.Combine(Root, "helm", "streamanomaly", "templates", "workloads.yaml"));
        Assert.Contains("secretName: {{ required", workloads, StringComparison.Ordinal);
        Assert.Contains("$.Values.http.tokenSecret", workloads, StringComparison.Ordinal);
        var values = LoadYaml(Path.Combine(Root, "helm", "streamanomaly", "values.yaml")).Single()!;
        Assert.Equal("streamanomaly-http", values["http"]!["tokenSecret"]!.GetValue<string>());

        // compose: every node reads the compose secret, which comes from the environment of `docker compose`.
        var compose = LoadYaml(Path.Combine(Root, "docker", "compose.yaml")).Single()!;
        var secrets = compose["secrets"]!.AsObject();
        foreach (var (name, service) in compose["services"]!.AsObject().Where(s => s.Value!["command"]?.AsArray().Any(c => c!.GetValue<string>() == "--roles") == true))
        {
            var env = service!["environment"]!.AsObject();
            Assert.False(env.ContainsKey("STREAMANOMALY__HTTP__TOKEN"), $"{name}: the token itself is in compose.yaml");
            var secret = env["STREAMANOMALY__HTTP__TOKENFILE"]!.GetValue<string>()["/run/secrets/".Length..];
            Assert.Contains(secret, service["secrets"]!.AsArray().Select(x => x!.GetValue<string>()));
            Assert.Equal("STREAMANOMALY_HTTP_TOKEN", secrets[secret]!["environment"]!.GetValue<string>());
        }
    }

    [Fact]
    public void EveryNodeGetsItsClusterCertificateFromASecretFileOrRunsPlaintextOnlyWhereAllowed()
    {
        // k8s/: TLS, the certificate and its password lie in a mounted Secret volume.
        foreach (var (file, doc) in NodeWorkloads())
        {
            var pod = doc["spec"]!["template"]!["spec"]!;
            var container = pod["containers"]!.AsArray().Single()!;
            var env = container["env"]!.AsArray().ToDictionary(e => e!["name"]!.GetValue<string>(), e => e!["value"]?.GetValue<string>());
            Assert.Equal("false", env["STREAMANOMALY__CLUSTER__ALLOWPLAINTEXT"]);
            Assert.False(env.ContainsKey("STREAMANOMALY__CLUSTER__CERTIFICATEPASSWORD"), $"{file}: the certificate password itself is in the manifest");
            foreach (var variable in new[] { "STREAMANOMALY__CLUSTER__CERTIFICATEFILE", "STREAMANOMALY__CLUSTER__CERTIFICATEPASSWORDFILE" })
            {
                var path = env[variable]!;
                var mount = container["volumeMounts"]!.AsArray().Single(m => path.StartsWith(m!["mountPath"]!.GetValue<string>() + "/", StringComparison.Ordinal))!;
                var volume = pod["volumes"]!.AsArray().Single(v => v!["name"]!.GetValue<string>() == mount["name"]!.GetValue<string>())!;
                Assert.Equal("streamanomaly-cluster", volume["secret"]!["secretName"]!.GetValue<string>());
                Assert.Contains(Path.GetFileName(path), volume["secret"]!["items"]!.AsArray().Select(i => i!["path"]!.GetValue<string>()));
            }
        }

        // The chart: the same Secret by default, and no rendering without it unless plaintext is allowed.
        var values = LoadYaml(Path.Combine(Root, "helm", "streamanomaly", "values.yaml")).Single()!;
        Assert.Equal("streamanomaly-cluster", values["cluster"]!["tlsSecret"]!.GetValue<string>());
        Assert.False(values["cluster"]!["allowPlaintext"]!.GetValue<bool>());
        var workloads = File.ReadAllText(Path.Combine(Root, "helm", "streamanomaly", "templates", "workloads.yaml"));
        Assert.Contains("fail \"cluster.tlsSecret must name", workloads, StringComparison.Ordinal);

        // compose: a private network, plaintext explicitly allowed on every node.
        var compose = LoadYaml(Path.Combine(Root, "docker", "compose.yaml")).Single()!;
        foreach (var (name, service) in compose["services"]!.AsObject().Where(s => s.Value!["command"]?.AsArray().Any(c => c!.GetValue<string>() == "--roles") == true))
        {
            Assert.Equal("true", service!["environment"]!["STREAMANOMALY__CLUSTER__ALLOWPLAINTEXT"]!.ToString());
        }
    }

    [Fact]
    public void DashboardParsesAndUsesOnlyMetricsTheAppExports()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(DashboardFile))!;
        var expressions = Descendants(dashboard).OfType<JsonObject>().Where(o => o["expr"] is not null).Select(o => o["expr"]!.GetValue<string>()).ToList();
        Assert.True(expressions.Count >= 15, $"only {expressions.Count} expressions");
        var used = expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);

        var exported = ExportedMetricNames();
        Assert.All(used, name => Assert.True(exported.Contains(name), $"dashboard uses {name}, which the app does not export"));

        // The panels the operators asked for are there.
        foreach (var required in new[]
                 {
                     "streamanomaly_alarms_raised_total", "streamanomaly_active_alarms", "streamanomaly_anomaly_score",
                     "streamanomaly_frames_ingested_total", "streamanomaly_frames_scored_total", "streamanomaly_frames_decided_total",
                     "streamanomaly_frames_dropped_total", "streamanomaly_end_to_end_latency_seconds_bucket", "streamanomaly_inference_seconds_bucket",
                     "streamanomaly_batch_size_frames_sum", "streamanomaly_consumer_lag_messages", "streamanomaly_dead_letters_total",
                     "streamanomaly_camera_state", "streamanomaly_cluster_members", "streamanomaly_cycle_last_seconds", "streamanomaly_cycle_seconds_sum",
                 })
        {
            Assert.Contains(required, used);
        }

        Assert.Contains(expressions, e => e.Contains("histogram_quantile(0.99, sum by (le) (rate(streamanomaly_end_to_end_latency_seconds_bucket", StringComparison.Ordinal));
    }

    [Fact]
    public void K8sDashboardConfigMapHelmAndComposeShipTheOneDashboardFile()
    {
        var expected = File.ReadAllText(DashboardFile);
        var configMap = K8sDocuments().Single(d => d.Doc["kind"]!.GetValue<string>() == "ConfigMap" && d.Doc["data"]?["streamanomaly-dashboard.json"] is not null).Doc;
        Assert.Equal("1", configMap["metadata"]!["labels"]!["grafana_dashboard"]!.GetValue<string>());
        Assert.Equal(expected, configMap["data"]!["streamanomaly-dashboard.json"]!.GetValue<string>());

        // The chart reads the same file through a link inside the chart (.Files.Get cannot leave it).
        var link = Path.Combine(Root, "helm", "streamanomaly", "dashboards", "streamanomaly-dashboard.json");
        var target = File.ResolveLinkTarget(link, returnFinalTarget: true);
        Assert.NotNull(target);
        Assert.Equal(Path.GetFullPath(DashboardFile), target.FullName);
        var template = File.ReadAllText(Path.Combine(Root, "helm", "streamanomaly", "templates", "dashboard-configmap.yaml"));
        Assert.Contains(".Files.Get \"dashboards/streamanomaly-dashboard.json\"", template, StringComparison.Ordinal);
    }

    private static string DashboardFile => Path.Combine(Root, "deploy", "grafana", "streamanomaly-dashboard.json");

    /// <summary>Metric names on /metrics: every Collector property's name; histograms add _bucket, _sum and _count.</summary>
    private static HashSet<string> ExportedMetricNames()
    {
        var metrics = new PipelineMetrics(Metrics.NewCustomRegistry());
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in typeof(PipelineMetrics).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => typeof(Collector).IsAssignableFrom(p.PropertyType)))
        {
            var collector = (Collector)property.GetValue(metrics)!;
            names.Add(collector.Name);
            if (collector is Histogram)
            {
                names.UnionWith(new[] { "_bucket", "_sum", "_count" }.Select(s => collector.Name + s));
            }
        }

        Assert.True(names.Count > 20, $"only {names.Count} metric names found");
        return names;
    }

    /// <summary>
    /// Every settings key (Section:Key, and Section:Record:Key of a nested record such as
    /// Kafka:Security; case-insensitive): the keys of config/appsettings.json and
    /// the settable properties of <see cref="PlantSettings"/>' sections (Node:SeedNodes and
    /// Worker:Bundles have no default in the file).
    /// </summary>
    private static HashSet<string> SettingsKeys()
    {
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "config", "appsettings.json")))!.AsObject();
        foreach (var (section, value) in file)
        {
            foreach (var (key, _) in value!.AsObject())
            {
                keys.Add($"{section}:{key}");
            }
        }

        var reflected = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var section in typeof(PlantSettings).GetProperties().Where(p => p.SetMethod is not null && !p.PropertyType.IsArray))
        {
            foreach (var key in section.PropertyType.GetProperties().Where(p => p.SetMethod is not null))
            {
                reflected.Add($"{section.Name}:{key.Name}");
                if (key.PropertyType.IsClass && key.PropertyType != typeof(string) && !key.PropertyType.IsArray)
                {
                    foreach (var nested in key.PropertyType.GetProperties().Where(p => p.SetMethod is not null))
                    {
                        reflected.Add($"{section.Name}:{key.Name}:{nested.Name}"); // e.g. Kafka:Security:Protocol
                    }
                }
            }
        }

        Assert.Superset(keys, reflected); // the file only holds real settings
        keys.UnionWith(reflected);
        return keys;
    }

    /// <summary>STREAMANOMALY__WORKER__BUNDLES__0 -> Worker:Bundles (array indexes dropped).</summary>
    private static string SettingsKey(string variable)
    {
        var parts = variable[PlantSettings.EnvironmentPrefix.Length..].Split("__").Where(p => !p.All(char.IsAsciiDigit)).ToArray();
        return string.Join(':', parts);
    }

    private static string Normalise(string variable) => Regex.Replace(Regex.Replace(variable, @"\{\{[^}]*\}\}", "0"), @"__\d+", "__0");

    private static void AssertValidPlant(string json)
    {
        var file = Path.Combine(Path.GetTempPath(), $"plant-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        try
        {
            var settings = PlantSettings.Load(file);
            Assert.NotEmpty(settings.Lines);
            Assert.All(settings.Lines.SelectMany(l => l.Cameras), c => Assert.StartsWith("synthetic:", c.Source, StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The StreamAnomaly nodes' Deployments and StatefulSets (not the journal's PostgreSQL).</summary>
    private static IEnumerable<(string File, JsonNode Doc)> NodeWorkloads() =>
        K8sDocuments().Where(static d => d.Doc["kind"]!.GetValue<string>() is "Deployment" or "StatefulSet" && d.Doc["metadata"]!["labels"]!["app.kubernetes.io/name"]!.GetValue<string>() == "streamanomaly");

    private static IEnumerable<(string File, JsonNode Doc)> K8sDocuments() =>
        Directory.EnumerateFiles(Path.Combine(Root, "k8s"), "*.yaml").Order(StringComparer.Ordinal)
            .SelectMany(f => LoadYaml(f).Where(d => d is not null).Select(d => (f, d!)));

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        {
            foreach (var d in Descendants(child))
            {
                yield return d;
            }
        }
    }

    /// <summary>Every document of a YAML file as JSON (YAML 1.2 core schema scalars, aliases and merge keys resolved).</summary>
    private static List<JsonNode?> LoadYaml(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(file)))
        {
            stream.Load(reader);
        }

        return stream.Documents.Select(d => ToJson(d.RootNode)).ToList();
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => Mapping(map),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } s => s.Value switch
        {
            null or "" or "~" or "null" => null,
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            var v when int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) => JsonValue.Create(i),
            var v when long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
            var v when double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && FloatLike().IsMatch(v) => JsonValue.Create(d),
            var v => JsonValue.Create(v),
        },
        YamlScalarNode s => JsonValue.Create(s.Value ?? string.Empty),
        _ => throw new InvalidDataException($"unexpected YAML node {node.NodeType}"),
    };

    /// <summary>A mapping; merge keys (<c>&lt;&lt;: *anchor</c>) first, so that the mapping's own keys override them.</summary>
    private static JsonObject Mapping(YamlMappingNode map)
    {
        var result = new JsonObject();
        foreach (var (key, value) in map.Children.Where(c => c.Key is YamlScalarNode { Value: "<<" }))
        {
            var merged = value is YamlSequenceNode list ? list.Children.Cast<YamlMappingNode>() : [(YamlMappingNode)value];
            foreach (var (k, v) in merged.SelectMany(m => Mapping(m)).ToList())
            {
                result[k] = v?.DeepClone();
            }
        }

        foreach (var (key, value) in map.Children.Where(c => c.Key is not YamlScalarNode { Value: "<<" }))
        {
            result[((YamlScalarNode)key).Value!] = ToJson(value);
        }

        return result;
    }

    /// <summary>kubernetes-models installed once into ~/.cache (npm, pinned version); the folder holding node_modules.</summary>
    private static async Task<string> KubernetesModelsAsync()
    {
        var cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "streamanomaly", $"kubernetes-models-{KubernetesModelsVersion}");
        if (File.Exists(Path.Combine(cache, "node_modules", "kubernetes-models", "package.json")))
        {
            return cache;
        }

        Directory.CreateDirectory(cache);
        await File.WriteAllTextAsync(Path.Combine(cache, "package.json"), """{"name":"k8s-validate","version":"1.0.0","private":true}""");
        var (code, stdout, stderr) = await RunAsync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", $"kubernetes-models@{KubernetesModelsVersion}"], cache);
        Assert.True(code == 0, $"npm install kubernetes-models failed ({code}): {stdout}{stderr}");
        return cache;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, string[] args, string workingDirectory, params (string Name, string Value)[] environment)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StreamAnomaly.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root (StreamAnomaly.sln) not found");
    }

    [GeneratedRegex(@"name:\s*""?(STREAMANOMALY__[A-Z0-9_]*(?:\{\{[^}]*\}\})?)")]
    private static partial Regex EnvNameInTemplate();

    [GeneratedRegex(@"\bstreamanomaly_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$")]
    private static partial Regex FloatLike();
}
