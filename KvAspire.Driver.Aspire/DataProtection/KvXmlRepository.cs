using System.Collections.ObjectModel;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace KvAspire.Driver.Aspire.DataProtection;

/// <summary>
/// ASP.NET Core Data Protection's key ring on KvAspire: one key per element under a prefix, so every instance of
/// an app protects and unprotects with the same keys. Elements are only ever added (Data Protection revokes a key
/// by adding an element), so a name already taken gets a fresh one rather than being overwritten.
/// </summary>
public sealed class KvXmlRepository(IKvClient kv, string prefix) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => GetAllElementsAsync().GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName) => StoreElementAsync(element, friendlyName).GetAwaiter().GetResult();

    private async Task<ReadOnlyCollection<XElement>> GetAllElementsAsync()
    {
        var elements = new List<XElement>();
        await foreach (var item in kv.ListAsync(prefix))
            elements.Add(XElement.Parse(item.Text));
        return elements.AsReadOnly();
    }

    private async Task StoreElementAsync(XElement element, string friendlyName)
    {
        var value = System.Text.Encoding.UTF8.GetBytes(element.ToString(SaveOptions.DisableFormatting));
        var name = string.IsNullOrEmpty(friendlyName) ? Guid.NewGuid().ToString() : friendlyName;
        while (true)
        {
            try
            {
                await kv.CreateAsync(prefix + name, value);
                return;
            }
            catch (KvKeyExistsException)
            {
                name = $"{friendlyName}-{Guid.NewGuid()}";
            }
        }
    }
}
