using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using MemoryOps.Engine.Heap;
using MemoryOps.Engine.IO;

namespace MemoryOps.Engine.Retention
{
    /// <summary>
    /// Names the static field behind a GCBulkRootStaticVar event. The event carries the field's name and a type id,
    /// but on .NET 10 that id is the type of the object the field holds, not the type that declares the field
    /// (verified here: "byId" came with Dictionary&lt;String, OrderStat&gt;'s id). So the declaring type is looked up in
    /// the loaded modules' metadata: the static fields of that name whose declared type is the held object's type
    /// (or, failing that, the only static field of that name). When it stays ambiguous the field is named without
    /// its type ("?.cache") rather than wrongly.
    /// </summary>
    internal sealed class StaticFieldNames
    {
        private readonly Dictionary<string, List<(string DeclaringType, string FieldType)>> byName =
            new Dictionary<string, List<(string, string)>>(StringComparer.Ordinal);

        public StaticFieldNames(IEnumerable<string> modulePaths, IReadOnlyCollection<string> wanted)
        {
            var want = new HashSet<string>(wanted, StringComparer.Ordinal);
            foreach (var path in modulePaths.Distinct(StringComparer.Ordinal))
            {
                try
                {
                    // A path named by a dump or a live process: a regular file only (a FIFO would hang the read).
                    var file = SafeFile.TryOpenRead(path);
                    if (file == null) continue;
                    using var pe = new PEReader(file);
                    if (!pe.HasMetadata) continue;
                    var md = pe.GetMetadataReader();
                    var provider = new FieldTypeNames(md);
                    foreach (var th in md.TypeDefinitions)
                    {
                        var td = md.GetTypeDefinition(th);
                        foreach (var fh in td.GetFields())
                        {
                            var f = md.GetFieldDefinition(fh);
                            if ((f.Attributes & FieldAttributes.Static) == 0) continue;
                            string name = md.GetString(f.Name);
                            if (!want.Contains(name)) continue;
                            string fieldType;
                            try { fieldType = f.DecodeSignature(provider, null); }
                            catch (Exception) { fieldType = ""; }
                            if (!byName.TryGetValue(name, out var list)) byName[name] = list = new List<(string, string)>();
                            list.Add((FullName(md, th), fieldType));
                        }
                    }
                }
                catch (Exception) { } // an unreadable module only costs names
            }
        }

        /// <summary>"Namespace.Type.field", or "?.field" when the declaring type cannot be told.</summary>
        /// <param name="objectType">Reflection-style name of the held object's type ("Ns.Dictionary`2[A,B]").</param>
        public string Name(string field, string objectType)
        {
            if (byName.TryGetValue(field, out var candidates))
            {
                string baseName = GenericDefinition(objectType);
                var matching = candidates.Where(c => c.FieldType == baseName).Select(c => c.DeclaringType).Distinct().ToList();
                if (matching.Count == 1) return TypeNameCanonicalizer.Canonicalize(matching[0]) + "." + field;
                var all = candidates.Select(c => c.DeclaringType).Distinct().ToList();
                if (all.Count == 1) return TypeNameCanonicalizer.Canonicalize(all[0]) + "." + field;
            }
            return "?." + field;
        }

        /// <summary>"Ns.Dictionary`2[A,B]" → "Ns.Dictionary`2"; "Ns.T[]" stays (arrays compare whole).</summary>
        private static string GenericDefinition(string name)
        {
            int tick = name.IndexOf('`');
            if (tick < 0) return name;
            int bracket = name.IndexOf('[', tick);
            return bracket < 0 ? name : name.Substring(0, bracket);
        }

        internal static string FullNameOf(MetadataReader md, TypeDefinitionHandle handle) => FullName(md, handle);

        private static string FullName(MetadataReader md, TypeDefinitionHandle handle)
        {
            var parts = new List<string>();
            string ns = "";
            for (int guard = 0; !handle.IsNil && guard < 16; guard++)
            {
                var def = md.GetTypeDefinition(handle);
                parts.Add(md.GetString(def.Name));
                ns = md.GetString(def.Namespace);
                handle = def.GetDeclaringType();
            }
            parts.Reverse();
            return (ns.Length > 0 ? ns + "." : "") + string.Join("+", parts);
        }

        /// <summary>A field's declared type as "Ns.Name" (generic definitions with their arity, arrays with []), enough to compare with the held object's type.</summary>
        private sealed class FieldTypeNames : ISignatureTypeProvider<string, object?>
        {
            private readonly MetadataReader md;
            public FieldTypeNames(MetadataReader md) { this.md = md; }
            public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
            {
                PrimitiveTypeCode.String => "System.String",
                PrimitiveTypeCode.Object => "System.Object",
                _ => "System." + typeCode,
            };
            public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => FullName(reader, handle);
            public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
            {
                var r = reader.GetTypeReference(handle);
                string name = reader.GetString(r.Name);
                if (r.ResolutionScope.Kind == HandleKind.TypeReference)
                    return GetTypeFromReference(reader, (TypeReferenceHandle)r.ResolutionScope, rawTypeKind) + "+" + name;
                string ns = reader.GetString(r.Namespace);
                return ns.Length > 0 ? ns + "." + name : name;
            }
            public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
                reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
            public string GetSZArrayType(string elementType) => elementType + "[]";
            public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[" + new string(',', shape.Rank - 1) + "]";
            public string GetByReferenceType(string elementType) => elementType;
            public string GetPointerType(string elementType) => elementType + "*";
            public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => genericType;
            public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;
            public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;
            public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
            public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
            public string GetPinnedType(string elementType) => elementType;
        }
    }

    /// <summary>
    /// Names static fields for the dump route. Since .NET 9 the runtime keeps reference-typed statics in object arrays
    /// held by strong handles, so the roots say "strong handle → Object[]" and never which field. ClrMD can list a
    /// type's static fields, but only by reading the module's metadata, which a Heap dump does not hold: ClrMD then
    /// asks its symbol-server file locator, which needs Azure.Core (not shipped with the module) and fails inside a
    /// native DAC callback, taking the process down. So the fields are read from the modules' files on this machine
    /// instead, and an object in a handle-held Object[] is named after the one static field whose declared type is
    /// exactly the object's type (Dictionary&lt;String, OrderStat&gt; → OrderService.Orders.byId). An object whose type
    /// fits no field, or several, stays unnamed (its path starts at the handle).
    /// </summary>
    internal sealed class StaticFieldsByType
    {
        private readonly Dictionary<string, List<string>> byType = new Dictionary<string, List<string>>(StringComparer.Ordinal);

        public StaticFieldsByType(IEnumerable<string> modulePaths)
        {
            foreach (var path in modulePaths.Distinct(StringComparer.Ordinal))
            {
                try
                {
                    var file = SafeFile.TryOpenRead(path); // named by the dump: a regular file only
                    if (file == null) continue;
                    using var pe = new PEReader(file);
                    if (!pe.HasMetadata) continue;
                    var md = pe.GetMetadataReader();
                    var provider = new FullTypeNames(md);
                    foreach (var th in md.TypeDefinitions)
                    {
                        var td = md.GetTypeDefinition(th);
                        string? declaring = null;
                        foreach (var fh in td.GetFields())
                        {
                            var f = md.GetFieldDefinition(fh);
                            if ((f.Attributes & FieldAttributes.Static) == 0 || (f.Attributes & FieldAttributes.Literal) != 0) continue;
                            string fieldType;
                            try { fieldType = f.DecodeSignature(provider, null); }
                            catch (Exception) { continue; }
                            if (fieldType.Length == 0 || fieldType.Contains('!')) continue; // open generic: cannot match a heap object
                            declaring ??= TypeNameCanonicalizer.Canonicalize(StaticFieldNames.FullNameOf(md, th));
                            string key = TypeNameCanonicalizer.Canonicalize(fieldType);
                            if (!byType.TryGetValue(key, out var list)) byType[key] = list = new List<string>();
                            list.Add(declaring + "." + md.GetString(f.Name));
                        }
                    }
                }
                catch (Exception) { } // an unreadable module only costs names
            }
        }

        /// <summary>"Namespace.Type.field" when exactly one static field is declared with this exact (canonical) type.</summary>
        public string? Unique(string canonicalType) =>
            byType.TryGetValue(canonicalType, out var list) && list.Count == 1 ? list[0] : null;

        /// <summary>Reflection-style names with generic arguments ("Ns.Dictionary`2[System.String,Ns.OrderStat]"), "!" for open parameters.</summary>
        private sealed class FullTypeNames : ISignatureTypeProvider<string, object?>
        {
            private readonly MetadataReader md;
            public FullTypeNames(MetadataReader md) { this.md = md; }
            public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
            {
                PrimitiveTypeCode.String => "System.String",
                PrimitiveTypeCode.Object => "System.Object",
                PrimitiveTypeCode.Boolean => "System.Boolean",
                PrimitiveTypeCode.Char => "System.Char",
                PrimitiveTypeCode.SByte => "System.SByte",
                PrimitiveTypeCode.Byte => "System.Byte",
                PrimitiveTypeCode.Int16 => "System.Int16",
                PrimitiveTypeCode.UInt16 => "System.UInt16",
                PrimitiveTypeCode.Int32 => "System.Int32",
                PrimitiveTypeCode.UInt32 => "System.UInt32",
                PrimitiveTypeCode.Int64 => "System.Int64",
                PrimitiveTypeCode.UInt64 => "System.UInt64",
                PrimitiveTypeCode.Single => "System.Single",
                PrimitiveTypeCode.Double => "System.Double",
                PrimitiveTypeCode.IntPtr => "System.IntPtr",
                PrimitiveTypeCode.UIntPtr => "System.UIntPtr",
                _ => "",
            };
            public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => StaticFieldNames.FullNameOf(reader, handle);
            public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
            {
                var r = reader.GetTypeReference(handle);
                string name = reader.GetString(r.Name);
                if (r.ResolutionScope.Kind == HandleKind.TypeReference)
                    return GetTypeFromReference(reader, (TypeReferenceHandle)r.ResolutionScope, rawTypeKind) + "+" + name;
                string ns = reader.GetString(r.Namespace);
                return ns.Length > 0 ? ns + "." + name : name;
            }
            public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
                reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
            public string GetSZArrayType(string elementType) => elementType.Length == 0 ? "" : elementType + "[]";
            public string GetArrayType(string elementType, ArrayShape shape) => elementType.Length == 0 ? "" : elementType + "[" + new string(',', shape.Rank - 1) + "]";
            public string GetByReferenceType(string elementType) => "";
            public string GetPointerType(string elementType) => "";
            public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) =>
                typeArguments.Any(a => a.Length == 0) ? "" : genericType + "[" + string.Join(",", typeArguments) + "]";
            public string GetGenericMethodParameter(object? genericContext, int index) => "!!" + index;
            public string GetGenericTypeParameter(object? genericContext, int index) => "!" + index;
            public string GetFunctionPointerType(MethodSignature<string> signature) => "";
            public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
            public string GetPinnedType(string elementType) => elementType;
        }
    }
}
