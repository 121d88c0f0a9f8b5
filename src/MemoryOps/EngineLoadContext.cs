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
        // Names only, from the runtime's list of paths: opening ~200 framework files to read their versions cost the import
        // time; the module targets the framework it runs on (net10.0), so the framework's copy is never the older one.
        private readonly Lazy<HashSet<string>> framework = new Lazy<HashSet<string>>(FrameworkAssemblyNames);

        private EngineLoadContext(string folder) : base("MemoryOps", isCollectible: false)
        {
            this.folder = folder;
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
            // A shared-framework assembly is used from the framework: one copy, the runtime's.
            if (framework.Value.Contains(name.Name)) return null;
            string path = Path.Combine(folder, name.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }

        /// <summary>The names of the shared framework's assemblies (the runtime's trusted platform assemblies).</summary>
        private static HashSet<string> FrameworkAssemblyNames()
        {
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa)
                foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                    names.Add(Path.GetFileNameWithoutExtension(path));
            return names;
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
