using System.Management.Automation;
using MemoryOps.Engine;
using MemoryOps.Engine.Baselines;

namespace MemoryOps
{
    /// <summary>
    /// A baseline name a file may be made of (letters, digits, '.', '_' and '-', no path), checked while the
    /// parameter binds, so a bad name is a parameter error before anything is read or written.
    /// </summary>
    public sealed class ValidateBaselineNameAttribute : ValidateArgumentsAttribute
    {
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            object value = arguments is PSObject p ? p.BaseObject : arguments;
            try { BaselineStore.ValidateName(value as string ?? ""); }
            catch (MemoryOpsException e) { throw new ValidationMetadataException(e.Message, e); }
        }
    }
}
