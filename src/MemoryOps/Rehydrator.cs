using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using MemoryOps.Engine;

namespace MemoryOps
{
    /// <summary>
    /// Rebuilds MemoryOps objects from the property bags PowerShell makes of them when they cross a process
    /// boundary: remoting (Invoke-Command), background jobs and Export-/Import-Clixml all hand back
    /// "Deserialized.MemoryOps.X" objects that carry the properties but not the type. PowerShell's own answer is a
    /// type converter or a transformation attribute; the rebuild itself is written here because there is nothing to
    /// reuse: PSSerializer's rehydration needs the type to be registered as rehydratable in a types file with a
    /// converter, and that converter would be this code. It is lossless: every public settable property of the
    /// model type is read back, nested objects and collections included, and an object that lost data on the way
    /// (serialized too shallow, so a list of rows came home as text) is refused rather than half-rebuilt.
    /// </summary>
    internal static class Rehydrator
    {
        private const string DeserializedPrefix = "Deserialized.";
        private const int MaxNesting = 8;
        private static readonly Assembly ModelAssembly = typeof(HeapSnapshot).Assembly;

        /// <summary>
        /// The MemoryOps object <paramref name="input"/> is or stands for: itself when it is one, rebuilt when it is
        /// the deserialized form of one, and <paramref name="input"/>'s base object otherwise (for the caller to
        /// refuse). The host the object came from (PSComputerName) becomes its Host.
        /// </summary>
        public static object? ToModel(object? input)
        {
            if (!(input is PSObject wrapped)) return input;
            object inner = wrapped.BaseObject;
            if (IsModelType(inner.GetType()))
            {
                // Rebuilt by the deserializer already (MemoryOps.Types.ps1xml); remoting added PSComputerName after.
                TakeHostFromRemoting(wrapped, inner);
                return inner;
            }
            var type = DeserializedModelType(wrapped);
            if (type == null) return inner;
            var model = Build(wrapped, type, 0, type.Name);
            TakeHostFromRemoting(wrapped, model);
            return model;
        }

        /// <summary>True when <paramref name="input"/> is a MemoryOps object or the deserialized form of one.</summary>
        public static bool IsModel(object? input) =>
            input is PSObject p ? IsModelType(p.BaseObject.GetType()) || DeserializedModelType(p) != null : input != null && IsModelType(input.GetType());

        /// <summary>The type name to show in an error about an input that is not what a cmdlet reads.</summary>
        public static string TypeNameOf(object? input) =>
            input is PSObject p ? p.TypeNames.FirstOrDefault() ?? p.BaseObject.GetType().FullName! : input?.GetType().FullName ?? "null";

        /// <summary>The MemoryOps type of a model object or of its deserialized form; null for anything else.</summary>
        public static Type? ModelTypeOf(PSObject p) => IsModelType(p.BaseObject.GetType()) ? p.BaseObject.GetType() : DeserializedModelType(p);

        // Dictionaries of the model (CounterTags) are values, rebuilt from their hashtable by the property holding them.
        private static bool IsModelType(Type t) => t.Assembly == ModelAssembly && t.IsClass && t.IsPublic && t.Namespace == "MemoryOps" && !typeof(IDictionary).IsAssignableFrom(t);

        private static Type? DeserializedModelType(PSObject p)
        {
            string? first = p.TypeNames.FirstOrDefault();
            if (first == null || !first.StartsWith(DeserializedPrefix + "MemoryOps.", StringComparison.Ordinal)) return null;
            var type = ModelAssembly.GetType(first.Substring(DeserializedPrefix.Length), throwOnError: false);
            return type != null && (IsModelType(type) || type.IsEnum) ? type : null;
        }

        /// <summary>
        /// Remoting adds PSComputerName to what comes home: that is the host a fleet check knows the machine by.
        /// Jobs and local sessions say "localhost", which says nothing the object's own Host doesn't say better.
        /// </summary>
        private static void TakeHostFromRemoting(PSObject wrapped, object model)
        {
            if (!(wrapped.Properties["PSComputerName"]?.Value is string computer) || computer.Length == 0) return;
            if (string.Equals(computer, "localhost", StringComparison.OrdinalIgnoreCase)) return;
            var host = model.GetType().GetProperty("Host", BindingFlags.Public | BindingFlags.Instance);
            if (host != null && host.PropertyType == typeof(string) && host.CanWrite) host.SetValue(model, computer);
        }

        private static object Build(PSObject source, Type type, int nesting, string path)
        {
            if (nesting > MaxNesting) throw Lossy(path, $"it is nested deeper than {MaxNesting} levels");
            object model = Activator.CreateInstance(type)!;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (!property.CanWrite || property.GetSetMethod() == null || property.GetIndexParameters().Length > 0) continue;
                var carried = source.Properties[property.Name];
                if (carried == null) continue; // written by an older MemoryOps: the property keeps its default
                object? value = Convert(carried.Value, property.PropertyType, property.GetValue(model), nesting + 1, path + "." + property.Name);
                property.SetValue(model, value);
            }
            return model;
        }

        private static object? Convert(object? value, Type target, object? current, int nesting, string path)
        {
            if (value == null) return target.IsValueType && Nullable.GetUnderlyingType(target) == null ? Activator.CreateInstance(target) : null;
            var wrapped = value as PSObject;
            object inner = wrapped?.BaseObject ?? value;

            if (target.IsAssignableFrom(inner.GetType()) && !(inner is PSCustomObject)) return inner;

            // Dictionary<K, V> and its subclasses (CounterTags): they travel as hashtables.
            var dictionaryType = target.IsClass && typeof(IDictionary).IsAssignableFrom(target)
                ? target.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>))
                : null;
            if (dictionaryType != null)
            {
                if (!(inner is IDictionary pairs)) throw Lossy(path, "it came home without its keys and values");
                var args = dictionaryType.GetGenericArguments();
                // Keep the dictionary the model made: it carries the comparer (Metrics ignore case).
                var dictionary = current as IDictionary ?? (IDictionary)Activator.CreateInstance(target)!;
                dictionary.Clear();
                foreach (DictionaryEntry pair in pairs)
                    dictionary[Convert(pair.Key, args[0], null, nesting + 1, path)!] = Convert(pair.Value, args[1], null, nesting + 1, path + "[" + pair.Key + "]");
                return dictionary;
            }

            if (IsModelType(target))
            {
                if (wrapped != null && DeserializedModelType(wrapped) == target) return Build(wrapped, target, nesting, path);
                throw Lossy(path, $"it came home as {(inner is string ? "text" : inner.GetType().Name)}, not as a {target.Name}");
            }


            Type? element = target.IsArray ? target.GetElementType()
                : target.IsGenericType && target.GetGenericTypeDefinition() == typeof(List<>) ? target.GetGenericArguments()[0] : null;
            if (element != null)
            {
                if (!(inner is IEnumerable items) || inner is string) throw Lossy(path, "it came home as text, not as a list");
                var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
                int i = 0;
                foreach (var item in items) list.Add(Convert(item, element, null, nesting + 1, path + "[" + i++ + "]"));
                if (!target.IsArray) return list;
                var array = Array.CreateInstance(element, list.Count);
                list.CopyTo(array, 0);
                return array;
            }

            try { return LanguagePrimitives.ConvertTo(inner, target, CultureInfo.InvariantCulture); }
            catch (PSInvalidCastException e) { throw Lossy(path, e.Message); }
        }

        private static MemoryOpsException Lossy(string path, string what) =>
            new MemoryOpsException(FailureKind.InvalidData,
                $"A deserialized MemoryOps object cannot be rebuilt: {path}: {what}. It was serialized too shallow to carry all its data " +
                "(MemoryOps sets the depth its objects need for remoting and jobs when the module is loaded where they are made; " +
                "for Export-Clixml give -Depth 4).", path);
    }

    /// <summary>
    /// Lets a parameter typed as a MemoryOps class take that object's deserialized form too (from remoting, a job,
    /// Import-Clixml), each element of an array parameter alike. For a HeapSnapshot parameter it also takes a
    /// Snapshot baseline entry (Get-MemoryBaseline), whose saved snapshot is what the parameter means.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class MemoryOpsObjectTransformationAttribute : ArgumentTransformationAttribute
    {
        private readonly bool single;

        /// <param name="single">The parameter takes one object (not an array): several are refused with a message that says which.</param>
        public MemoryOpsObjectTransformationAttribute(bool single = false) => this.single = single;

        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            try
            {
                object? input = inputData is PSObject p && !(p.BaseObject is PSCustomObject) && !Rehydrator.IsModel(p) ? p.BaseObject : inputData;
                if (input is IList list && !(input is string) && !(input is IDictionary))
                {
                    var items = new object?[list.Count];
                    for (int i = 0; i < list.Count; i++) items[i] = One(list[i]);
                    if (single && items.Length == 1) return items[0];
                    if (single && items.Length > 1)
                    {
                        // The common way to get here: Get-MemoryBaseline of a fleet's baseline gives each host's latest entry.
                        var hosts = items.Select(i => i?.GetType().GetProperty("Host")?.GetValue(i) as string).Where(h => !string.IsNullOrEmpty(h)).Distinct().ToList();
                        throw new MemoryOpsException(FailureKind.InvalidInput,
                            $"{items.Length} objects were given where one is expected" +
                            (hosts.Count > 1 ? $" (from hosts {string.Join(", ", hosts)}; pick one, e.g. Get-MemoryBaseline -Host <name>)." : "."));
                    }
                    return items;
                }
                return One(input);
            }
            catch (MemoryOpsException e)
            {
                throw new ArgumentTransformationMetadataException(e.Message, e);
            }
        }

        private static object? One(object? item)
        {
            object? model = Rehydrator.ToModel(item);
            if (model is MemoryBaselineEntry entry)
            {
                if (entry.Snapshot == null)
                    throw new MemoryOpsException(FailureKind.UnsupportedInput,
                        $"Baseline '{entry.Name}' entry of {entry.Timestamp:u} from host '{entry.Host}' holds counters, not a heap snapshot.", entry.Name);
                return entry.Snapshot;
            }
            return model;
        }
    }

    /// <summary>
    /// The converter MemoryOps.Types.ps1xml names for every MemoryOps class, so PowerShell's deserializer itself
    /// hands back real MemoryOps objects (its TargetTypeForDeserialization mechanism) where this module is loaded.
    /// </summary>
    public sealed class DeserializingTypeConverter : PSTypeConverter
    {
        public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
            sourceValue is PSObject p && Rehydrator.IsModel(p) && destinationType.IsAssignableFrom(Rehydrator.ModelTypeOf(p));

        public override object? ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase)
        {
            try { return Rehydrator.ToModel(sourceValue); }
            catch (MemoryOpsException e) { throw new PSInvalidCastException(e.Message, e); }
        }

        public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

        public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
            throw new NotSupportedException();
    }
}
