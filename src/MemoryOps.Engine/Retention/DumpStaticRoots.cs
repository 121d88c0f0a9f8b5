using System;
using MemoryOps.Engine.Heap;
using Microsoft.Diagnostics.Runtime;

namespace MemoryOps.Engine.Retention
{
    /// <summary>
    /// Names static fields for the dump route. Since .NET 8/9 the runtime keeps statics in object arrays held by
    /// strong handles, so the roots ClrMD enumerates say "strong handle → Object[]" and never which field; here every
    /// loaded type's reference-typed static field is read and reported as its own root "Namespace.Type.field"
    /// holding the field's object, one step shorter than the handle, so shortest paths start at the field.
    /// </summary>
    internal static class DumpStaticRoots
    {
        public static int Report(ClrRuntime runtime, IHeapGraphSink graph)
        {
            int reported = 0;
            var heap = runtime.Heap;
            foreach (var module in runtime.EnumerateModules())
            {
                try
                {
                    foreach (var (mt, _) in module.EnumerateTypeDefToMethodTableMap())
                    {
                        if (mt == 0) continue;
                        var type = heap.GetTypeByMethodTable(mt);
                        if (type == null) continue;
                        string? typeName = null;
                        foreach (var field in type.StaticFields)
                        {
                            if (!field.IsObjectReference) continue;
                            foreach (var domain in runtime.AppDomains)
                            {
                                ClrObject obj;
                                try
                                {
                                    if (!field.IsInitialized(domain)) continue;
                                    obj = field.ReadObject(domain);
                                }
                                catch (Exception) { continue; } // a field the DAC cannot place: the handle root still holds it
                                if (obj.IsNull || !obj.IsValid) continue;
                                typeName ??= TypeNameCanonicalizer.Canonicalize(type.Name ?? $"<unknown type 0x{mt:x}>");
                                graph.OnRoot(obj.Address, HeapRootKind.StaticField, typeName + "." + field.Name);
                                reported++;
                            }
                        }
                    }
                }
                catch (Exception) { } // one unreadable module must not cost the others' names
            }
            return reported;
        }
    }
}
