namespace KvAspire.Node.Storage;

/// <summary>
/// A string-keyed dictionary that can hand out a point-in-time view without copying: <see cref="Freeze"/>
/// returns the contents as they are, read-only, and keeps every later change in a delta (removals as
/// tombstones) until <see cref="Thaw"/> folds the delta back. One thread writes; the frozen view may be
/// read from another thread until the writer thaws.
/// </summary>
public sealed class FreezableDictionary<TValue>
{
    private readonly Dictionary<string, TValue> _base = new(StringComparer.Ordinal);
    private Dictionary<string, Change>? _delta;

    private readonly record struct Change(bool Removed, TValue Value);

    public int Count { get; private set; }

    public bool IsFrozen => _delta is not null;

    public bool TryGetValue(string key, out TValue value)
    {
        if (_delta is not null && _delta.TryGetValue(key, out var change))
        {
            value = change.Value;
            return !change.Removed;
        }
        return _base.TryGetValue(key, out value!);
    }

    /// <summary>
    /// The value to change in place: while frozen, a value still shared with the frozen view is first
    /// copied with <paramref name="copy"/>, so that the view never sees the change.
    /// </summary>
    public bool TryGetForUpdate(string key, Func<TValue, TValue> copy, out TValue value)
    {
        if (_delta is null || _delta.ContainsKey(key))
            return TryGetValue(key, out value);
        if (!_base.TryGetValue(key, out var shared))
        {
            value = default!;
            return false;
        }
        value = copy(shared);
        _delta[key] = new Change(false, value);
        return true;
    }

    public void Set(string key, TValue value)
    {
        if (!TryGetValue(key, out _))
            Count++;
        if (_delta is null)
            _base[key] = value;
        else
            _delta[key] = new Change(false, value);
    }

    public void Remove(string key)
    {
        if (!TryGetValue(key, out _))
            return;
        Count--;
        if (_delta is null)
            _base.Remove(key);
        else
            _delta[key] = new Change(true, default!);
    }

    /// <summary>The contents as of now; valid until <see cref="Thaw"/>.</summary>
    public IReadOnlyDictionary<string, TValue> Freeze()
    {
        if (_delta is not null)
            throw new InvalidOperationException("already frozen: thaw the previous view first");
        _delta = new Dictionary<string, Change>(StringComparer.Ordinal);
        return _base;
    }

    /// <summary>Folds the changes made while frozen back in; the frozen view must no longer be read.</summary>
    public void Thaw()
    {
        if (_delta is null)
            return;
        foreach (var (key, change) in _delta)
        {
            if (change.Removed)
                _base.Remove(key);
            else
                _base[key] = change.Value;
        }
        _delta = null;
    }

    /// <summary>Removes every entry whose value matches <paramref name="match"/>.</summary>
    public void RemoveWhere(Func<TValue, bool> match)
    {
        foreach (var key in Current().Where(pair => match(pair.Value)).Select(pair => pair.Key).ToList())
            Remove(key);
    }

    /// <summary>Replaces every value with <paramref name="change"/> of it (the frozen view keeps the old ones).</summary>
    public void ChangeEach(Func<TValue, TValue> change)
    {
        foreach (var (key, value) in Current().ToList())
            Set(key, change(value));
    }

    /// <summary>Every entry as of now, in no order; the dictionary must not change while it is read.</summary>
    public IEnumerable<KeyValuePair<string, TValue>> Current() =>
        _delta is null
            ? _base
            : _base.Where(pair => !_delta.ContainsKey(pair.Key))
                .Concat(_delta.Where(pair => !pair.Value.Removed).Select(pair => KeyValuePair.Create(pair.Key, pair.Value.Value)));
}
