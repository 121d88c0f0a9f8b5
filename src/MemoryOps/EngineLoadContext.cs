using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace MemoryOps
{
    /// <summary>
    /// The module's own load context: MemoryOps.Engine and its third-party dependencies (TraceEvent, ClrMD,
    /// NETCore.Client, Microsoft.Extensions.*, ...) load here from the module's lib/ folder, so another module that
    /// brought other versions of the same assemblies into PowerShell's default context neither breaks MemoryOps nor
    /// is broken by it. What is not in lib/ (the base library, PowerShell, MemoryOps.Model with the objects scripts
    /// see) comes from the default context, so those types are the very same ones everywhere.
    /// The pattern is PowerShell's own advice for binary modules (and PSToml's and PSOpenAD's LoadContext).
    /// </summary>
    internal sealed class EngineLoadContext : AssemblyLoadContext
    {
        private readonly string folder;
        private readonly Dictionary<string, Version> framework;

        private EngineLoadContext(string folder) : base("MemoryOps", isCollectible: false)
        {
            this.folder = folder;
            framework = FrameworkVersions();
        }

        internal static EngineLoadContext? Instance { get; private set; }
        private static bool resolving;

        /// <summary>Once per process: a context cannot be unloaded, and a second Import-Module -Force must find the same engine.</summary>
        internal static void Start(string folder)
        {
            Instance ??= new EngineLoadContext(folder);
            if (!resolving) Default.Resolving += ResolveEngine;
            resolving = true;
        }

        internal static void Stop()
        {
            Default.Resolving -= ResolveEngine;
            resolving = false;
        }

        /// <summary>Only the engine is sent here from the default context; everything it needs follows from Load.</summary>
        private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name) =>
            Instance != null && name.Name == "MemoryOps.Engine" ? Instance.LoadFromAssemblyName(name) : null;

        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name == null) return null;
            // A shared-framework assembly at least as new as the one we were built with is used from the framework
            // (System.Text.Json 10 on .NET 10): one copy, the runtime's. On an older runtime our newer copy loads here.
            if (framework.TryGetValue(name.Name, out var frameworkVersion) && (name.Version == null || frameworkVersion >= name.Version)) return null;
            string path = Path.Combine(folder, name.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }

        /// <summary>The shared framework's assemblies and their versions (the runtime's trusted platform assemblies).</summary>
        private static Dictionary<string, Version> FrameworkVersions()
        {
            var versions = new Dictionary<string, Version>(StringComparer.OrdinalIgnoreCase);
            if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is not string tpa) return versions;
            foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                try
                {
                    var n = AssemblyName.GetAssemblyName(path);
                    if (n.Name != null && n.Version != null) versions[n.Name] = n.Version;
                }
                catch (Exception e) when (e is IOException || e is BadImageFormatException || e is UnauthorizedAccessException) { }
            }
            return versions;
        }
    }

    /// <summary>Runs when Import-Module loads MemoryOps.dll, before any cmdlet runs.</summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        public void OnImport()
        {
            // The discovery, socket and file-permission code is Linux/Unix-only; until Windows is supported and
            // tested, say so at once rather than fail obscurely in the first cmdlet.
            if (!OperatingSystem.IsLinux())
                throw new PlatformNotSupportedException($"MemoryOps supports Linux only (it reads /proc and the runtime's Unix diagnostic sockets); this is {RuntimeInformation.OSDescription}.");
            EngineLoadContext.Start(Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "lib"));
        }

        public void OnRemove(PSModuleInfo module) => EngineLoadContext.Stop();
    }
}
